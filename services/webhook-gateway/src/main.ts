import { bootstrapService } from '@campaigns/service-kit';
import { webhookGateway } from './webhook-gateway.definition.js';

await bootstrapService(webhookGateway);
