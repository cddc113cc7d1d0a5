import { describe, it } from 'vitest';
import { storeContract } from './store-contract.js';

if (process.env.DATABASE_URL) storeContract('postgres');
else describe('store on postgres', () => it.skip('skipped: set DATABASE_URL to run the PostgreSQL suite', () => {}));
