-- What a try returned (its JSON), so a repeated try answers with it (PROTOCOL.md v1.1).
-- NULL on rows from before this column, and for a try that returned nothing.
ALTER TABLE dtx_barrier ADD COLUMN result MEDIUMTEXT NULL;
