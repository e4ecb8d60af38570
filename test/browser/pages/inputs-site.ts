// Not a page: the site the input and worker suites share. The harness' page suite (each page
// with an <img> of grace_hopper) plus ../shared again on a second origin (another port, no CORS
// headers: its images taint a canvas).
import { serveStatic, sharedDir, startPageSuite, type PageSuite, type StaticServer } from '../harness.js';

export interface PhotoSite extends PageSuite {
  foreign: StaticServer;
}

/** `entries`: page name -> entry script (or a package path such as the worker script, bundled with no page) */
export async function photoSite(entries: Record<string, string>, pageNames: string[]): Promise<PhotoSite> {
  const body = '<img src="/shared/images/samples/grace_hopper.bmp">';
  const suite = await startPageSuite(Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, { entry, body: pageNames.includes(name) ? body : undefined }])));
  const foreign = await serveStatic({ '/shared': sharedDir });
  return {
    ...suite,
    foreign,
    async close() {
      await suite.close();
      await foreign.close();
    },
  };
}
