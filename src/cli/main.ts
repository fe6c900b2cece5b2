// The twg process: parse the command line and run the command; the exit code is set on the way.
import { EXIT } from './exit-codes.ts';
import { buildProgram } from './program.ts';

// A reader that stops early (`twg … | head`) closes the pipe: the rest of the output was not
// wanted, so twg ends there, quietly and successfully, instead of dying on EPIPE with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT.ok);
});

await buildProgram().parseAsync(process.argv);
