// Contract fields whose capability belongs to a later issue. They exist so the printed schema
// keeps the public contract, and answer with a clear error rather than a made-up value.
import { AppError } from '../shared/errors.ts';

export function notAvailableYet(capability: string): never {
  throw new AppError('INTERNAL', `${capability} is not available on this server yet.`, { subCode: 'NOT_AVAILABLE_YET' });
}
