// The fixture service as its own process, for start-up and shutdown tests.
import { runService } from '../service.ts';
import { notesService } from './notes-service.ts';

await runService(notesService(process.env.NOTES_EVENT_PREFIX ?? 'test'));
