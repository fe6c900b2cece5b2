// npm run print-schema: writes the schema the code builds to schema.graphql.
import fs from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../src/graphql/schema.ts';

fs.writeFileSync(new URL('../schema.graphql', import.meta.url), `${printSchema(schema)}\n`);
process.stdout.write('wrote schema.graphql\n');
