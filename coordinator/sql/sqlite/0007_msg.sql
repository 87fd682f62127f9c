-- v1.2 message mode. A message's check-back URL: asked by recovery, once the message is
-- still trying at its deadline, whether the producer's local transaction committed.
-- A message step's action URL is try_url and confirm_url (what delivery calls); it has
-- no compensation, so its cancel_url is empty. Delivered steps end 'delivered'; the
-- attempt history's phase names check-backs 'check'.
ALTER TABLE dtx_global_tx ADD COLUMN check_url TEXT NULL;
