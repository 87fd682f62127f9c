import { Module } from '@nestjs/common';
import { DtxParticipantModule } from '@dtx/participant-sdk/nest';
import { AccountsController } from './wallet/accounts.controller';
import { AccountsRepository } from './wallet/accounts.repository';
import { Database, knex } from './wallet/database';
import { WalletParticipant } from './wallet/wallet.participant';

const database = [Database, AccountsRepository];

@Module({
  imports: [DtxParticipantModule.forRoot({ knex, participants: [WalletParticipant], providers: database })],
  controllers: [AccountsController],
  providers: database,
})
export class AppModule {}
