import { Link, useParams } from "react-router";

import { useJob, useJobLogs } from "../../hooks/queries/jobs";
import { HostNav } from "./HostNav";

/** A job's page (the button opens it while a scan runs or after it failed): status and logs. */
export function JobPage() {
  const jobId = Number(useParams()["jobId"]);
  const job = useJob(Number.isInteger(jobId) ? jobId : undefined);
  const logs = useJobLogs(job.data?.id);
  return (
    <>
      <HostNav libraryId={job.data?.library_id} />
      <main className="host-main">
        <h1>Job #{jobId}</h1>
        {job.isError ? <p role="alert">Could not load the job: {job.error.message}</p> : null}
        {job.data === undefined ? null : (
          <>
            <p>
              Status: <strong data-testid="job-status">{job.data.status}</strong>
              {job.data.error === undefined ? null : <> - {job.data.error}</>}
            </p>
            {job.data.library_id === undefined ? null : (
              <p>
                <Link to={`/libraries/${job.data.library_id}`}>Back to the library</Link>
              </p>
            )}
            <ol className="host-logs">
              {(logs.data?.logs ?? []).map((line) => (
                <li data-level={line.level} data-testid="job-log" key={line.id}>
                  <span className="host-log-level">{line.level}</span> {line.message}
                </li>
              ))}
            </ol>
          </>
        )}
      </main>
    </>
  );
}
