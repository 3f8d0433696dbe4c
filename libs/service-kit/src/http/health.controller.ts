import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { Readiness, type ReadinessReport } from '../readiness/readiness.js';

/** Liveness and readiness probes, for orchestrators and load balancers. */
@Controller()
export class HealthController {
  constructor(@Inject(Readiness) private readonly readiness: Readiness) {}

  /** Answers while the process runs: a failing liveness probe means "restart me". */
  @Get('healthz')
  alive(): { status: 'alive' } {
    return { status: 'alive' };
  }

  /** 200 when the service can do its work; 503 naming the failing checks otherwise. */
  @Get('readyz')
  async ready(): Promise<ReadinessReport> {
    const report = await this.readiness.report();
    if (report.status !== 'ready') throw new ServiceUnavailableException(report);
    return report;
  }
}
