import { LocalNotifier, EventBus } from './bus.js';
import { busContract } from './bus-contract.js';
import { EventsRepo } from './events-repo.js';
import { openTestStore } from '../testing/test-store.js';

busContract('in-process over SQLite', async () => {
  const t = await openTestStore('sqlite');
  const bus = new EventBus(new EventsRepo(t.store), new LocalNotifier());
  return {
    a: bus,
    b: bus,
    async close() {
      await bus.close();
      await t.cleanup();
    },
  };
});
