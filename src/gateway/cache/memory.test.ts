import { describeCacheBackend } from './backend.contract.js';
import { createMemoryBackend } from './memory.js';

describeCacheBackend('memory (lru-cache)', async (maxBytes) => createMemoryBackend({ maxBytes }));
