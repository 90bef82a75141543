/** The list of `gnc` subcommands. */
import type { Command } from '../command.js';
import * as agreement from './agreement.js';
import { arrivalsCommand } from './arrivals.js';
import { auditExportCommand, auditVerifyCommand } from './audit.js';
import { backupCommand } from './backup.js';
import { keysRevokeCommand, keysRotateCommand, keysStatusCommand } from './keys.js';
import { convertCommand } from './convert.js';
import { identityExportCommand, partnerAddCommand, partnerListCommand, partnerRemoveCommand } from './identity.js';
import { initCommand } from './init.js';
import { messagesCommand, messagesWithdrawCommand } from './messages.js';
import { sendCommand } from './send.js';
import { startCommand } from './start.js';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './token.js';

export const COMMANDS: Command[] = [
  initCommand,
  startCommand,
  identityExportCommand,
  partnerAddCommand,
  partnerListCommand,
  partnerRemoveCommand,
  tokenCreateCommand,
  tokenListCommand,
  tokenRevokeCommand,
  sendCommand,
  messagesCommand,
  messagesWithdrawCommand,
  arrivalsCommand,
  convertCommand,
  agreement.agreementDraftCommand,
  agreement.agreementSignCommand,
  agreement.agreementProposeCommand,
  agreement.agreementImportCommand,
  agreement.agreementListCommand,
  agreement.agreementShowCommand,
  agreement.agreementSuspendCommand,
  agreement.agreementTerminateCommand,
  agreement.agreementResumeCommand,
  auditExportCommand,
  auditVerifyCommand,
  backupCommand,
  keysRotateCommand,
  keysRevokeCommand,
  keysStatusCommand,
];
