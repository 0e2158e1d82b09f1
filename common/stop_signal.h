// SIGTERM as a request to stop well, not a crash: process managers
// (Kubernetes, Slurm's --signal, Docker, systemd) send it before they kill.
// glog's failure handler, installed for crashes, would print a crash banner
// and die; this replaces it for SIGTERM only, with a flag each daemon's main
// loop reads: the scheduler stops the job as POST /stop does, a worker
// hands its lease back and leaves, a server leaves the job so that it is
// replaced.
#pragma once

namespace embedps {

// Takes SIGTERM over: call once, early in main, before any thread starts.
void InstallStopOnSigterm();

// True once SIGTERM arrived.
bool StopSignalled();

}  // namespace embedps
