import test from 'ava';
import { MemoryAccountStore } from '../../src/accounts/memory-store.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { accountStoreContract } from './account-store-contract.ts';
import { adapterContract } from './adapter-contract.ts';

const storage = new MemoryStorage();
const accounts = new MemoryAccountStore();
test.after.always(() => storage.close());

adapterContract(test, 'memory', () => storage);
accountStoreContract(test, 'memory', () => accounts);
