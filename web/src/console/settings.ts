import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { api, client } from '../api/client.ts';
import type { Ok } from '../api/types.ts';

// What the console needs before anyone signs in (map tiles, whether SSO is offered).

export type ConsoleSettings = Ok<'/api/v1/console/settings', 'get'>;

export const Settings = createContext<ConsoleSettings | undefined>(undefined);

export function useSettings(): ConsoleSettings | undefined {
  return useContext(Settings);
}

export function loadSettings(): Promise<ConsoleSettings> {
  return api(() => client.GET('/api/v1/console/settings'), { quiet: true });
}
