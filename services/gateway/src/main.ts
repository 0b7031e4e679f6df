import { runMain } from '@folio/platform/service';
import { startGateway } from './gateway.ts';

await runMain(() => startGateway());
