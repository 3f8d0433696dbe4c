import { bootstrapService } from '@campaigns/service-kit';
import { reconcilerService } from './reconciler-service.definition.js';

await bootstrapService(reconcilerService);
