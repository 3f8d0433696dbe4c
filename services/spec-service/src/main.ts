import { bootstrapService } from '@campaigns/service-kit';
import { specService } from './spec-service.definition.js';

await bootstrapService(specService);
