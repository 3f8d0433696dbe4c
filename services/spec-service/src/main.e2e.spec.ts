import { describeServiceProcess } from '../../../libs/service-kit/src/test-support/describe-service-process.js';

describeServiceProcess('spec-service');
