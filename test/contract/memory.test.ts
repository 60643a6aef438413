import test from 'ava';
import { MemoryAccountStore } from '../../src/accounts/memory-store.ts';
import { MemoryCounters } from '../../src/storage/counters.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { accountStoreContract } from './account-store-contract.ts';
import { adapterContract } from './adapter-contract.ts';
import { countersContract } from './counters-contract.ts';

const storage = new MemoryStorage();
const accounts = new MemoryAccountStore();
test.after.always(() => storage.close());

adapterContract(test, 'memory', () => storage);
accountStoreContract(test, 'memory', () => accounts);
const counters = new MemoryCounters();
countersContract(test, 'memory', () => counters);
