// The twg process: parse the command line and run the command; the exit code is set on the way.
import { buildProgram } from './program.ts';

await buildProgram().parseAsync(process.argv);
