import { campaignsCatalogue, CONSUMER_ENTITIES, sqlMigrations } from '@campaigns/events';
import { Counter } from 'prom-client';
import { loadCampaignsConfig, secretValues, type CampaignsConfig } from '@campaigns/codehost';
import {
  provideComponents,
  SERVICE_COMPONENTS,
  SERVICE_CONTEXT,
  SERVICE_SETTINGS,
  type ServiceContext,
  type ServiceDefinition,
} from '@campaigns/service-kit';
import { Module } from '@nestjs/common';
import { ExecutionRunner } from './execution/execution-runner.js';
import { StepCacheEntry } from './execution/step-cache.entity.js';
import { executorServiceMigrations } from './executor-service.migrations.js';
import {
  loadExecutorSettings,
  stepSecretsFromEnv,
  type ExecutorSettings,
} from './executor-settings.js';
import { JOB_DISPATCHER, JobDispatchController } from './jobs/job-dispatch.controller.js';
import { DispatchedExecution } from './jobs/dispatched-execution.entity.js';
import {
  EXECUTOR_SCHEMA,
  jobDispatcherBinding,
  jobDispatcherMigrations,
} from './jobs/job-dispatcher.js';
import { JobWorker } from './jobs/job-worker.js';

/** Thrown at startup when CAMPAIGNS_CONFIG is unset: the executor cannot clone anything without it. */
export class MissingCampaignsConfigError extends Error {
  override readonly name = 'MissingCampaignsConfigError';
  constructor() {
    super(
      'CAMPAIGNS_CONFIG is not set: executor-service needs the Campaigns config file (code hosts and their token variables) to fetch repositories',
    );
  }
}

/** What executor-service reads at startup, injected as SERVICE_SETTINGS. */
export interface ExecutorServiceSettings {
  campaigns: CampaignsConfig;
  settings: ExecutorSettings;
  stepSecrets: Record<string, string>;
}

/**
 * executor-service runs campaign steps in containers and produces patches (DESIGN.md,
 * "Executor"). Components: the job dispatcher (ExecutionQueued → the jobs work queue) and the
 * job worker (work queue → PatchComputed | ExecutionFailed). See README.md for its environment.
 */
export function createExecutorService(
  env: NodeJS.ProcessEnv = process.env,
): ServiceDefinition<ExecutorServiceSettings> {
  return {
    name: 'executor-service',
    defaultPort: 3102,
    database: {
      schema: EXECUTOR_SCHEMA,
      entities: [...CONSUMER_ENTITIES, StepCacheEntry, DispatchedExecution],
      // The timestamps name the migrations (TypeORM knows them by name): never change them.
      migrations: [
        ...sqlMigrations({
          component: 'executor-service',
          timestamp: 1764806600000,
          migrations: executorServiceMigrations,
        }),
        ...jobDispatcherMigrations(1764806601000),
      ],
    },
    catalogue: campaignsCatalogue(),
    // Read once before anything starts: a missing or invalid config stops startup here.
    async configure() {
      if (env['CAMPAIGNS_CONFIG'] === undefined || env['CAMPAIGNS_CONFIG'].trim() === '') {
        throw new MissingCampaignsConfigError();
      }
      const settings = loadExecutorSettings(env);
      const campaigns = await loadCampaignsConfig(env);
      const stepSecrets = stepSecretsFromEnv(settings.stepSecretNames, env);
      return {
        settings: { campaigns, settings, stepSecrets },
        secrets: [...secretValues(campaigns), ...Object.values(stepSecrets)],
      };
    },
    imports: [ExecutorServiceModule],
    events: true,
  };
}

/**
 * The job dispatcher (an `@EventPattern` handler) and the job worker (a component), with the
 * runner the worker hands each job to.
 */
@Module({
  controllers: [JobDispatchController],
  providers: [
    {
      provide: JOB_DISPATCHER,
      inject: [SERVICE_CONTEXT],
      useFactory: (ctx: ServiceContext) => jobDispatcherBinding(ctx.nats, ctx.config.events),
    },
    provideComponents(
      (ctx: ServiceContext, { campaigns, settings, stepSecrets }: ExecutorServiceSettings) => {
        const executions = new Counter({
          name: 'campaigns_executions_total',
          help: 'Execution job deliveries handled by this executor, by outcome',
          labelNames: ['outcome'],
          registers: [ctx.registry],
        });
        const runner = new ExecutionRunner({
          store: ctx.eventStore,
          database: ctx.database,
          campaignsConfig: campaigns,
          stepSecrets,
          cacheDir: settings.cacheDir,
          workDir: settings.workDir,
          stepTimeoutMs: settings.stepTimeoutMs,
          slots: settings.concurrency,
        });
        return [
          new JobWorker({
            nats: ctx.nats,
            topology: ctx.config.events,
            runner,
            concurrency: settings.concurrency,
            ackWaitMs: settings.ackWaitMs,
            maxAttempts: settings.maxAttempts,
            stopDeadlineMs: settings.stopDeadlineMs,
            logger: ctx.logger,
            onOutcome: (_job, outcome) =>
              executions.inc({
                outcome: outcome.kind === 'failed' ? `failed:${outcome.reason}` : outcome.kind,
              }),
          }),
        ];
      },
      [SERVICE_CONTEXT, SERVICE_SETTINGS],
    ),
  ],
  exports: [SERVICE_COMPONENTS],
})
export class ExecutorServiceModule {}

export const executorService: ServiceDefinition = createExecutorService();
