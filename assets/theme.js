// The colour theme chosen on this device: 'system' (follow the operating system), 'light'
// or 'dark'. Loaded by index.html before anything is drawn, so a chosen theme never flashes.

const THEME_KEY = 'notebox.theme';
export const THEMES = ['system', 'light', 'dark'];

export function currentTheme() {
  const stored = localStorage.getItem(THEME_KEY);
  return THEMES.includes(stored) ? stored : 'system';
}

/** Applies `theme` to the page and remembers it on this device. */
export function setTheme(theme) {
  if (theme === 'system') localStorage.removeItem(THEME_KEY);
  else localStorage.setItem(THEME_KEY, theme);
  apply(theme);
}

function apply(theme) {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
  // The browser's own widgets (scroll bars, form controls) and the phone's status bar follow.
  const dark = theme === 'dark' || (theme === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  for (const meta of document.querySelectorAll('meta[name="theme-color"]')) {
    meta.content = dark ? '#17181c' : '#f7f7f5';
  }
}

apply(currentTheme());
