// Public links open in the system browser: inside Tauri through the opener plugin (the webview
// would otherwise navigate away from the app), in a browser as a new tab.
import { openUrl } from "@tauri-apps/plugin-opener";
import { isTauri } from "./api";

export async function openExternal(url: string): Promise<void> {
  if (isTauri()) await openUrl(url);
  else window.open(url, "_blank", "noopener");
}
