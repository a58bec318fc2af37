// The libraries this demo host offers in its switcher.
//
// A real host reads them from its own API (Shisho: `useLibraries()`); the reference host that
// serves the jobs API here has no JSON route for them, so the demo names the three libraries
// that `make demo` and the e2e fixtures create (CONTRACT section 6). The server still decides
// what each user may see and do.

export interface DemoLibrary {
  id: number;
  name: string;
}

export const DEMO_LIBRARIES: readonly DemoLibrary[] = [
  { id: 1, name: "Books" },
  { id: 2, name: "Comics" },
  { id: 3, name: "Broken" },
];

export function demoLibrary(id: number | undefined): DemoLibrary | undefined {
  return DEMO_LIBRARIES.find((library) => library.id === id);
}
