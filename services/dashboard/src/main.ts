import { bootstrapService } from '@campaigns/service-kit';
import { dashboard } from './dashboard.definition.js';

await bootstrapService(dashboard);
