// SQLite has no timestamp type: times are ISO-8601 text, which sorts and compares in time order.
export const sqliteColumnTypes = { timestamp: 'text' } as const;
