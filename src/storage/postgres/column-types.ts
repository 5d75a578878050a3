// Times are timestamptz; the adapter turns them back into ISO-8601 strings when read.
export const postgresColumnTypes = { timestamp: 'timestamptz' } as const;
