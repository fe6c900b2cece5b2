// Column types shared by the modules' table interfaces (src/modules/*/*.table.ts).
import type { ColumnType } from 'kysely';

export type Timestamp = ColumnType<Date, Date, Date>;
export type Json = ColumnType<unknown, string, string>;
