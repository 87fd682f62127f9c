import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { AccountsRepository } from './accounts.repository';

@Controller('accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsRepository) {}

  @Get(':id')
  async get(@Param('id') id: string) {
    const account = await this.accounts.find(id);
    if (!account) throw new NotFoundException(`no account ${id}`);
    return account;
  }
}
