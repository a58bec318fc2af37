// Reading the ResyncButton as a user sees it, and times relative to now, for the tests of its
// component (ResyncButton.test.tsx) and of its states (resyncStates.test.tsx).

export const MINUTE = 60_000;

/** The ISO time `minutes` minutes before now (the fake clock's now, where one is set). */
export const minutesAgo = (minutes: number) =>
  new Date(Date.now() - minutes * MINUTE).toISOString();

/** The state the button's wrapper shows in `data-state` (its contract with hosts and e2e). */
export function stateOf(button: HTMLElement): string | undefined {
  return button.closest<HTMLElement>(".shisho-resync-button")?.dataset["state"];
}

/** Whether the button's icon spins. */
export function spins(button: HTMLElement): boolean {
  const icon = button.querySelector("svg");
  return icon?.classList.contains("shisho-resync-button__icon--spinning") === true;
}
