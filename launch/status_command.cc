#include "launch/status_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "common/http/http_client.h"
#include "common/http/token_file.h"

namespace embedps::launch {
namespace {

int Fail(const char* command, int code, const std::string& message) {
  std::fprintf(stderr, "embedps %s: error: %s\n", command, message.c_str());
  return code;
}

// An exit code for a failed request: bad addresses are usage errors,
// everything else means the scheduler is out of reach.
int RequestFailed(const char* command, const CliOptions& o, const Status& st) {
  if (st.code() == StatusCode::kInvalidArgument) return Fail(command, kExitUsage, "--scheduler: " + st.message());
  return Fail(command, kExitUnreachable,
              "cannot reach the scheduler at " + o.scheduler + ": " + st.message() +
                  " (is the job running? --scheduler takes the scheduler's HTTP address, "
                  "HOST:PORT of its --http_port)");
}

std::string Trimmed(const std::string& body) {
  std::string s = body;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Num(const nlohmann::json& v, int decimals = 0) {
  if (!v.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v.get<double>());
  return buf;
}

std::string Bytes(const nlohmann::json& v) {
  if (!v.is_number()) return "-";
  double b = v.get<double>();
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (b >= 1024 && i < 4) {
    b /= 1024;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f %s", b, units[i]);
  return buf;
}

std::string Cell(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

}  // namespace

std::string FormatStatusTable(const nlohmann::json& s) {
  std::ostringstream out;
  const auto& job = s.at("job");
  const auto& p = s.at("progress");
  out << "job " << job.value("id", "?") << " \"" << job.value("name", "") << "\": "
      << job.value("state", "?") << ", up " << Num(job["uptime_seconds"], 1) << " s, "
      << job.value("servers", 0) << " servers, " << job.value("workers", 0) << " workers\n";
  if (job.contains("error") && job["error"].is_string()) out << "error: " << job["error"].get<std::string>() << "\n";
  if (job.contains("stop_reason") && job["stop_reason"].is_string()) {
    out << "stopping: " << job["stop_reason"].get<std::string>() << "\n";
  }
  // A scheduler older than the loss's name reported logloss only.
  std::string loss = p.value("loss", "logloss");
  std::replace(loss.begin(), loss.end(), '_', ' ');
  const auto& recent = p.contains("recent_loss") ? p["recent_loss"] : p["recent_logloss"];
  out << "progress: " << Num(p["rows"]) << " rows, " << Num(p["rows_per_sec"]) << " rows/s (recent), " << loss << " "
      << Num(recent, 4) << " (recent), partitions " << Num(p["partitions_done"]) << "/"
      << Num(p["partitions_total"]) << ", " << Num(p["bad_lines"]) << " bad lines\n";
  const auto& m = s.at("metrics");
  // Resident memory is what the servers hold; reserved, what their tables
  // set aside (older schedulers report only that, as memory_bytes).
  const bool resident = m.contains("server_resident_bytes") && m["server_resident_bytes"].get<uint64_t>() > 0;
  out << "model: " << Num(m["server_rows"]) << " rows, "
      << (resident ? Bytes(m["server_resident_bytes"]) + " resident (" + Bytes(m["server_memory_bytes"]) + " reserved)"
                   : Bytes(m["server_memory_bytes"]) + " reserved")
      << "; " << Num(m["keys_pulled"]) << " keys pulled, " << Num(m["keys_pushed"]) << " pushed\n\n";
  const size_t w[] = {11, 6, 10, 11, 24, 11, 10, 11};
  // MEMORY: a server's resident memory (RSS) when it reports it.
  const char* head[] = {"ROLE", "RANK", "HEALTH", "HEARTBEAT", "ADDRESS", "ROWS", "ROWS/S", "MEMORY"};
  for (size_t i = 0; i < 8; ++i) out << Cell(head[i], w[i]);
  out << "METRICS\n";
  for (const auto& n : s.at("nodes")) {
    const bool sched = n.value("role", "") == "scheduler";
    const std::string cells[] = {n.value("role", "?"),
                                 std::to_string(n.value("rank", 0)),
                                 n.value("health", "?"),
                                 sched ? "-" : Num(n["last_heartbeat_age_seconds"], 1) + " s",
                                 n.value("address", "-"),
                                 Num(n.value("rows", nlohmann::json())),
                                 Num(n.value("rows_per_sec", nlohmann::json())),
                                 Bytes(n.value("resident_bytes", 0) > 0 ? n["resident_bytes"]
                                                                          : n.value("memory_bytes", nlohmann::json()))};
    for (size_t i = 0; i < 8; ++i) out << Cell(cells[i], w[i]);
    const std::string url = n.value("metrics_url", "");
    out << (url.empty() ? "-" : url + "/metrics") << "\n";
  }
  out << "\nlast checkpoint: "
      << (s.contains("last_checkpoint") && !s["last_checkpoint"].is_null() ? s["last_checkpoint"].dump() : "none")
      << "\n";
  return out.str();
}

int RunStatusCommand(const CliOptions& o) {
  if (o.scheduler.empty()) return Fail("status", kExitUsage, "--scheduler HOST:PORT is required");
  auto res = http::Fetch(o.scheduler, "GET", "/status", o.timeout);
  if (!res.ok()) return RequestFailed("status", o, res.status());
  if (res->status != 200) {
    return Fail("status", kExitError, "the scheduler answered " + std::to_string(res->status) +
                                          ": " + Trimmed(res->body));
  }
  nlohmann::json status = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (status.is_discarded() || !status.contains("job") || !status.contains("nodes")) {
    return Fail("status", kExitError, o.scheduler + " did not answer with an embedps status document");
  }
  if (o.json) {
    std::printf("%s\n", status.dump(2).c_str());
    return kExitOk;
  }
  try {
    std::printf("%s", FormatStatusTable(status).c_str());
  } catch (const nlohmann::json::exception& e) {
    return Fail("status", kExitError, "unexpected status document: " + std::string(e.what()));
  }
  return kExitOk;
}

namespace {

// POSTs to `path` with the token of --token_file; kExitOk on 200/202.
int PostToScheduler(const char* command, const std::string& path, const CliOptions& o) {
  if (o.scheduler.empty()) return Fail(command, kExitUsage, "--scheduler HOST:PORT is required");
  std::vector<std::pair<std::string, std::string>> headers;
  if (!o.token_file.empty()) {
    auto token = http::ReadTokenFile(o.token_file);
    if (!token.ok()) return Fail(command, kExitError, "--token_file: " + token.status().message());
    headers.emplace_back("Authorization", "Bearer " + *token);
  }
  auto res = http::Fetch(o.scheduler, "POST", path, o.timeout, headers);
  if (!res.ok()) return RequestFailed(command, o, res.status());
  if (res->status != 202 && res->status != 200) {
    return Fail(command, kExitError, "the scheduler refused (" + std::to_string(res->status) +
                                         "): " + Trimmed(res->body));
  }
  return kExitOk;
}

// The id of the job's newest complete checkpoint; 0 when none; -1 when the
// status cannot be read.
int64_t LastCheckpointId(const CliOptions& o) {
  auto res = http::Fetch(o.scheduler, "GET", "/status", o.timeout, {});
  if (!res.ok() || res->status != 200) return -1;
  auto j = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return -1;
  const auto& last = j["last_checkpoint"];
  return last.is_object() ? last.value("id", int64_t{0}) : 0;
}

}  // namespace

int RunStopCommand(const CliOptions& o) {
  const int rc = PostToScheduler("stop", "/stop", o);
  if (rc != kExitOk) return rc;
  std::printf("embedps: stop requested; workers finish their current batch, the model is "
              "exported and the job ends\n");
  return kExitOk;
}

int RunCheckpointCommand(const CliOptions& o) {
  const int64_t before = o.scheduler.empty() ? 0 : LastCheckpointId(o);
  const int rc = PostToScheduler("checkpoint", "/checkpoint", o);
  if (rc != kExitOk) return rc;
  std::printf("embedps: checkpoint requested; waiting for it to complete\n");
  std::fflush(stdout);
  // Checkpoints of big tables take a while: wait longer than one request.
  const auto deadline = std::chrono::steady_clock::now() + std::max(o.timeout, std::chrono::milliseconds(120000));
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto res = http::Fetch(o.scheduler, "GET", "/status", o.timeout, {});
    if (!res.ok() || res->status != 200) continue;
    auto j = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j["last_checkpoint"].is_object()) continue;
    const auto& last = j["last_checkpoint"];
    if (last.value("id", int64_t{0}) <= before) continue;
    std::printf("embedps: checkpoint %lld written to %s (%s, %.1f MB, %.2f s, training paused %.1f ms)\n",
                static_cast<long long>(last.value("id", int64_t{0})), last.value("directory", "").c_str(),
                last.value("kind", "").c_str(), last.value("bytes", 0.0) / 1e6, last.value("seconds", 0.0),
                last.value("pause_seconds", 0.0) * 1e3);
    return kExitOk;
  }
  return Fail("checkpoint", kExitError, "no new checkpoint appeared on /status (see the scheduler log)");
}

}  // namespace embedps::launch
