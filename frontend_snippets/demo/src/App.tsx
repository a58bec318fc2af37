import { Navigate, Route, Routes } from "react-router";

import { JobPage } from "./JobPage";
import { LibraryPage } from "./LibraryPage";
import { DEMO_LIBRARIES } from "./libraries";

/** The host's pages: a library (with the nav and its resync button) and a job's page. */
export function App() {
  const first = DEMO_LIBRARIES[0];
  return (
    <Routes>
      <Route element={<LibraryPage />} path="/libraries/:libraryId" />
      <Route element={<JobPage />} path="/settings/jobs/:jobId" />
      <Route
        element={
          <Navigate replace to={first === undefined ? "/login" : `/libraries/${first.id}`} />
        }
        path="*"
      />
    </Routes>
  );
}
