import { runService } from '@folio/platform/service';
import module from './service.ts';

await runService(module);
