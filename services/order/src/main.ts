import { runService } from '@folio/platform/service';
import order from './service.ts';

await runService(order);
