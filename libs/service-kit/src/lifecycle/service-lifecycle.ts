import {
  Inject,
  Injectable,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { describeError } from '../logging/describe-error.js';
import { Readiness } from '../readiness/readiness.js';
import {
  SERVICE_COMPONENTS,
  SERVICE_CONTEXT,
  type ServiceComponent,
  type ServiceContext,
} from '../service/service-definition.js';
import { EVENT_RELAY } from './event-relay.provider.js';

/**
 * Runs the service's components under Nest's lifecycle: the event relay, then the service's own
 * components in their order, when the application bootstraps; in reverse before it shuts down.
 * Each component is a readiness check. A component that fails to start fails the bootstrap,
 * and those already started are stopped.
 */
@Injectable()
export class ServiceLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly components: readonly ServiceComponent[];
  private started: ServiceComponent[] = [];
  private readonly failed: string[] = [];

  constructor(
    @Inject(EVENT_RELAY) relay: ServiceComponent,
    @Inject(Readiness) readiness: Readiness,
    @Inject(SERVICE_CONTEXT) private readonly context: ServiceContext,
    @Optional() @Inject(SERVICE_COMPONENTS) components: ServiceComponent[] | null,
  ) {
    this.components = [relay, ...(components ?? [])];
    for (const component of this.components) {
      readiness.add(`component:${component.name}`, () => component.ready());
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const component of this.components) {
      try {
        await component.start();
      } catch (error) {
        await this.beforeApplicationShutdown();
        throw new Error(`component ${component.name} failed to start: ${describeError(error)}`, {
          cause: error,
        });
      }
      this.started.unshift(component);
    }
  }

  /**
   * Stops every started component, newest first, even when one fails (it is logged and named in
   * `failedToStop`). Never rejects: Nest would then skip closing the HTTP server.
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const component of this.started) {
      try {
        await component.stop();
      } catch (error) {
        const step = `component:${component.name}`;
        this.context.logger.error({ step, reason: describeError(error) }, `${step} failed to stop`);
        this.failed.push(step);
      }
    }
    this.started = [];
  }

  /** The components that failed to stop, as `component:<name>`. */
  get failedToStop(): readonly string[] {
    return this.failed;
  }
}
