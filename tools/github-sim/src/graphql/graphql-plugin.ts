// GraphQL as a simulator plugin: POST /api/graphql through the simulator's HTTP pipeline
// (authentication, faults, concurrency), charging GraphQL points itself.
import type { SimCore, SimPlugin } from '../sim-core.js';
import { executableSchema } from './executable-schema.js';
import { githubSchema } from './github-schema.js';
import { handleGraphqlRequest } from './graphql-endpoint.js';

export function graphqlPlugin(): SimPlugin {
  return {
    name: 'graphql',
    setup(core: SimCore) {
      // Built now (a few hundred ms), so the first query is not the slow one.
      githubSchema();
      executableSchema();
      core.route({
        method: 'POST',
        path: '/api/graphql',
        resource: 'graphql',
        charge: false,
        handler: (request) =>
          handleGraphqlRequest(core, {
            body: request.body,
            token: request.token,
            remoteAddress: request.req.socket.remoteAddress ?? '',
          }),
      });
    },
  };
}
