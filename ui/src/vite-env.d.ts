/// <reference types="svelte" />
/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Hub base URL for a plain browser (dev); the Tauri shell provides it through `hub_url`. */
  readonly VITE_HUB_URL?: string;
}
