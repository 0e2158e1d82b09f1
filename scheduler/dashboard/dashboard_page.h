// The live dashboard served at GET / by the scheduler: one self-contained
// page (HTML, CSS and JavaScript, no external resources, since clusters are
// often offline) that polls /status and draws the job's nodes, throughput
// and loss plots, per-server rows and memory, and events. It is compiled
// into the binary from dashboard.html.
#pragma once

namespace embedps::scheduler {

const char* DashboardHtml();

}  // namespace embedps::scheduler
