import { Link, useParams } from "react-router";

import { useJobs } from "../../hooks/queries/jobs";
import { JobType } from "../../types/generated";
import { HostNav } from "./HostNav";
import { demoLibrary } from "./libraries";

/** A library's page: the nav with its resync button, and the library's latest scans. */
export function LibraryPage() {
  const libraryId = Number(useParams()["libraryId"]);
  const library = demoLibrary(libraryId);
  return (
    <>
      <HostNav libraryId={library?.id} />
      <main className="host-main">
        <h1>{library?.name ?? "No such library"}</h1>
        {library === undefined ? null : <RecentScans libraryId={library.id} />}
      </main>
    </>
  );
}

/** The latest scans that concern the library; the nav's live events keep the list current. */
function RecentScans({ libraryId }: { libraryId: number }) {
  const scans = useJobs({ type: JobType.Scan, library_id_or_global: libraryId, limit: 5 });
  if (scans.isPending) {
    return <p>Loading scans...</p>;
  }
  if (scans.isError) {
    return <p role="alert">Could not load the scans: {scans.error.message}</p>;
  }
  if (scans.data.jobs.length === 0) {
    return <p>This library was never scanned.</p>;
  }
  return (
    <table className="host-table">
      <caption>Latest scans</caption>
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Status</th>
          <th scope="col">Progress</th>
        </tr>
      </thead>
      <tbody>
        {scans.data.jobs.map((job) => (
          <tr data-job-id={job.id} data-status={job.status} data-testid="job-row" key={job.id}>
            <td>
              <Link to={`/settings/jobs/${job.id}`}>#{job.id}</Link>
            </td>
            <td>{job.status}</td>
            <td>{job.progress}%</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
