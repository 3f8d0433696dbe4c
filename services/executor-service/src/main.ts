import { bootstrapService } from '@campaigns/service-kit';
import { executorService } from './executor-service.definition.js';

await bootstrapService(executorService);
