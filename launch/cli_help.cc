#include "launch/cli_help.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <gflags/gflags.h>

namespace embedps::launch {
namespace {

struct Command {
  const char* name;
  const char* summary;
  const char* usage;
};

// The subcommands in the order the list shows them.
const Command kCommands[] = {
    {"local", "run a scheduler, servers and workers on this machine and train",
     "embedps local --train FILES [--test FILES] [--model lr] [--servers 2 --workers 2] [flags]"},
    {"ssh", "run them on the hosts of a hostfile over ssh and train",
     "embedps ssh --hostfile HOSTS --train FILES [--checkpoint_dir DIR] [flags]"},
    {"node-flags", "print the job flags `ssh` gives a scheduler, server or worker (for launchers that start the daemons)",
     "embedps node-flags --role scheduler|server|worker [job and model flags]"},
    {"gen-criteo", "write synthetic Criteo-format data from a planted model (and its oracle AUC)",
     "embedps gen-criteo --rows N --seed S --out FILE [--force]"},
    {"eval", "evaluate an exported model on a test file", "embedps eval --model_dir DIR --test FILES [--json]"},
    {"export", "copy a trained model out of a run directory", "embedps export --from RUN_DIR --out DIR"},
    {"predict", "score a data file with an exported model, one score per line",
     "embedps predict --model_dir DIR --input FILES|- [--out FILE]"},
    {"recommend", "the top K items a user has not interacted with",
     "embedps recommend --model_dir DIR --user U [--k 10] [--json]"},
    {"serve", "answer GET /recommend?user=U&k=K over HTTP from an exported model",
     "embedps serve --model_dir DIR [--http_port 8080] [--http_bind 127.0.0.1]"},
    {"keygen", "write CURVE keys for a cluster",
     "embedps keygen --out DIR --servers S --workers W [--standby_servers N] | --nodes N | --add NAME --role R"},
    {"bench", "measure push/pull throughput, memory per row, parsing speed or checkpoint speed",
     "embedps bench pushpull|memory|parse|checkpoint [flags]"},
    {"status", "show a running job", "embedps status --scheduler HOST:PORT [--json]"},
    {"stop", "stop a running job (a final checkpoint first)", "embedps stop --scheduler HOST:PORT [--token_file F]"},
    {"checkpoint", "checkpoint a running job now", "embedps checkpoint --scheduler HOST:PORT [--token_file F]"},
};

// Group order on a help page.
const char* const kGroups[] = {"data",        "model",      "training", "cluster",     "security",
                               "checkpoints", "monitoring", "output",   "gen-criteo", "recommend",
                               "bench",       "job",        "deprecated"};

// Shorthands for the command lists below.
#define TRAIN "local", "ssh", "node-flags"
#define SCORE "eval", "predict", "recommend", "serve"
#define CLUSTER_CMDS "status", "stop", "checkpoint"

struct Entry {
  const char* flag;
  const char* group;
  std::vector<const char*> commands;
};

// Every flag of the embedps binary but glog's and gflags' own. A flag with
// no command is a daemon flag linked in with the node code and read by none
// of embedps's subcommands.
const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      // data
      {"train", "data", {TRAIN, "recommend", "serve"}},
      {"test", "data", {"local", "ssh", "eval"}},
      {"validation", "data", {TRAIN}},
      {"format", "data", {TRAIN, SCORE, "bench"}},
      {"max_bad_line_fraction", "data", {TRAIN, SCORE}},
      {"shuffle", "data", {"local"}},
      {"input", "data", {"predict"}},
      {"file", "data", {"bench"}},
      {"label_column", "data", {TRAIN}},
      {"numeric_columns", "data", {TRAIN}},
      {"categorical_columns", "data", {TRAIN}},
      {"ignore_columns", "data", {TRAIN}},
      {"user_features", "data", {TRAIN, SCORE}},
      {"item_features", "data", {TRAIN, SCORE}},
      {"user_features_spec", "data", {TRAIN, SCORE}},
      {"item_features_spec", "data", {TRAIN, SCORE}},
      // model
      {"model", "model", {TRAIN}},
      {"factors", "model", {TRAIN}},
      {"hidden", "model", {TRAIN}},
      {"l2", "model", {TRAIN}},
      {"bias_l2", "model", {TRAIN}},
      {"init_scale", "model", {TRAIN}},
      {"dense_feature_scale", "model", {TRAIN}},
      {"negatives", "model", {TRAIN}},
      {"min_rating", "model", {TRAIN}},
      {"max_rating", "model", {TRAIN}},
      {"dense_precision", "model", {TRAIN}},
      // training
      {"passes", "training", {TRAIN}},
      {"batch_size", "training", {TRAIN, "bench"}},
      {"prefetch", "training", {TRAIN}},
      {"dense_pull_every", "training", {TRAIN}},
      {"dense_push_every", "training", {TRAIN}},
      {"max_staleness", "training", {TRAIN}},
      {"optimizer", "training", {TRAIN, "bench"}},
      {"learning_rate", "training", {TRAIN}},
      {"factor_learning_rate", "training", {TRAIN}},
      {"dense_optimizer", "training", {TRAIN}},
      {"dense_learning_rate", "training", {TRAIN}},
      {"evict_after_s", "training", {TRAIN}},
      // cluster
      {"servers", "cluster", {"local", "keygen", "bench"}},
      {"workers", "cluster", {"local", "keygen"}},
      {"standby_servers", "cluster", {"local", "keygen"}},
      {"replicas", "cluster", {TRAIN, "bench"}},
      {"hostfile", "cluster", {"ssh"}},
      {"base_port", "cluster", {"ssh"}},
      {"http_base_port", "cluster", {"ssh"}},
      {"bind_host", "cluster", {"ssh"}},
      {"ssh", "cluster", {"ssh"}},
      {"ssh_options", "cluster", {"ssh"}},
      {"remote_dir", "cluster", {"ssh"}},
      {"remote_bin_dir", "cluster", {"ssh"}},
      {"node_flags", "cluster", {"local", "ssh"}},
      {"scheduler_flags", "cluster", {"local", "ssh"}},
      {"server_flags", "cluster", {"local", "ssh"}},
      {"worker_flags", "cluster", {"local", "ssh"}},
      {"restart_failed", "cluster", {"local", "ssh"}},
      {"timeout_s", "cluster", {"local", CLUSTER_CMDS}},
      {"scheduler", "cluster", {CLUSTER_CMDS}},
      {"role", "cluster", {"node-flags", "keygen"}},
      {"server_threads", "bench", {"bench"}},
      // security
      {"curve", "security", {"local", "bench"}},
      {"insecure", "security", {"ssh"}},
      {"nodes", "security", {"keygen"}},
      {"add", "security", {"keygen"}},
      {"token_file", "security", {"stop", "checkpoint"}},
      {"http_token_file", "security", {"local"}},
      {"http_enable_mutations", "security", {"local"}},
      // checkpoints
      {"checkpoints", "checkpoints", {"local"}},
      {"checkpoint_dir", "checkpoints", {TRAIN}},
      {"checkpoint_interval_s", "checkpoints", {TRAIN}},
      {"resume", "checkpoints", {"local", "ssh"}},
      // monitoring
      {"eval_every_s", "monitoring", {TRAIN}},
      {"eval_every_rows", "monitoring", {TRAIN}},
      {"eval_rows", "monitoring", {TRAIN}},
      {"keep_best", "monitoring", {TRAIN}},
      {"progress_interval_s", "monitoring", {TRAIN}},
      {"http_port", "monitoring", {"local", "serve"}},
      {"http_bind", "monitoring", {"local", "ssh", "serve"}},
      {"http_url_file", "monitoring", {"serve"}},
      {"json", "monitoring", {"eval", "recommend", "bench", "status"}},
      {"summary_json", "output", {"local", "eval"}},
      // output
      {"run_dir", "output", {"local"}},
      {"model_dir", "output", {TRAIN, SCORE}},
      {"out", "output", {"gen-criteo", "export", "predict", "keygen"}},
      {"from", "output", {"export"}},
      // gen-criteo
      {"rows", "gen-criteo", {"gen-criteo"}},
      {"seed", "gen-criteo", {"gen-criteo"}},
      {"model_seed", "gen-criteo", {"gen-criteo"}},
      {"force", "gen-criteo", {"gen-criteo"}},
      // recommend
      {"user", "recommend", {"recommend"}},
      {"k", "recommend", {"recommend"}},
      // bench
      {"keys", "bench", {"bench"}},
      {"dim", "bench", {"bench"}},
      {"seconds", "bench", {"bench"}},
      {"depth", "bench", {"bench"}},
      {"null_store", "bench", {"bench"}},
      {"raw_tcp_reference", "bench", {"bench"}},
      {"repeat", "bench", {"bench"}},
      {"replicas_compare", "bench", {"bench"}},
      {"curve_compare", "bench", {"bench"}},
      {"fp16", "bench", {"bench"}},
      {"bench_dir", "bench", {"bench"}},
      // deprecated spellings, kept for one release (cli_aliases.h)
      {"output", "deprecated", {"predict"}},
      {"timeout_ms", "deprecated", {CLUSTER_CMDS}},
      {"bind", "deprecated", {"recommend"}},
      {"serve", "deprecated", {"recommend"}},
      // daemon flags linked in with the node code, read by no subcommand
      {"cluster_token", "job", {}},
      {"curve_dir", "job", {}},
      {"curve_key", "job", {}},
      {"heartbeat_interval_ms", "job", {}},
      {"join_timeout_ms", "job", {}},
      {"max_message_bytes", "job", {}},
      {"scheduler_timeout_ms", "job", {}},
  };
  return entries;
}

#undef TRAIN
#undef SCORE
#undef CLUSTER_CMDS

const Command* FindCommand(const std::string& name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

// The command list a description segment starts with ("local, ssh: ..."),
// or none when the words before its colon are not commands.
std::optional<std::vector<std::string>> CommandsOf(const std::string& segment) {
  const size_t colon = segment.find(": ");
  if (colon == std::string::npos) return std::nullopt;
  std::vector<std::string> names;
  std::stringstream in(segment.substr(0, colon));
  for (std::string word; std::getline(in, word, ',');) {
    while (!word.empty() && word.front() == ' ') word.erase(word.begin());
    const std::string first = word.substr(0, word.find(' '));  // "bench parse", "recommend --serve"
    if (FindCommand(first) == nullptr) return std::nullopt;
    names.push_back(first);
  }
  return names;
}

// What a flag's description says for `command`: descriptions read
// "local, ssh: what it does there; eval: what it does there; more", and a
// page shows the parts for its command (without the list) and the parts
// for every command.
std::string DescriptionFor(const std::string& command, const std::string& text) {
  std::vector<std::string> segments;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
    if (depth == 0 && text.compare(i, 2, "; ") == 0) {
      segments.push_back(text.substr(start, i - start));
      start = i + 2;
    }
  }
  segments.push_back(text.substr(start));
  std::string out;
  bool keep = true;
  for (const std::string& segment : segments) {
    std::string part = segment;
    if (const auto names = CommandsOf(segment)) {
      keep = std::find(names->begin(), names->end(), command) != names->end();
      part = segment.substr(segment.find(": ") + 2);
    }
    if (keep) out += (out.empty() ? "" : "; ") + part;
  }
  return out.empty() ? text : out;
}

// Wraps `text` at about 76 columns, each line indented by `indent`.
std::string Wrapped(const std::string& text, const std::string& indent) {
  std::string out, line;
  std::stringstream in(text);
  for (std::string word; in >> word;) {
    if (!line.empty() && line.size() + 1 + word.size() > 76 - indent.size()) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

}  // namespace

std::vector<std::string> CommandNames() {
  std::vector<std::string> names;
  for (const Command& c : kCommands) names.push_back(c.name);
  return names;
}

std::string CommandList() {
  std::string out = "embedps <command> [flags]\n\ncommands:\n";
  for (const Command& c : kCommands) {
    char line[256];
    std::snprintf(line, sizeof(line), "  %-11s %s\n", c.name, c.summary);
    out += line;
  }
  out +=
      "\n'embedps help COMMAND' or 'embedps COMMAND --help' shows the flags a command takes;\n"
      "'embedps --helpfull' lists every flag, glog's included; 'embedps --version' the version.\n"
      "exit codes: 0 ok, 1 error or refused, 2 usage error, 3 scheduler unreachable (status, stop,\n"
      "checkpoint), 75 a job stopped before the end (resume it).\n";
  return out;
}

std::string CommandHelp(const std::string& command) {
  const Command* c = FindCommand(command);
  if (c == nullptr) return "";
  std::string out = "embedps " + std::string(c->name) + ": " + c->summary + "\nusage: " + c->usage + "\n";
  for (const char* group : kGroups) {
    std::string section;
    for (const Entry& e : Entries()) {
      if (std::string(e.group) != group ||
          std::find_if(e.commands.begin(), e.commands.end(), [&](const char* n) { return command == n; }) ==
              e.commands.end()) {
        continue;
      }
      gflags::CommandLineFlagInfo info;
      if (!gflags::GetCommandLineFlagInfo(e.flag, &info)) continue;
      section += "  --" + info.name + " (" + info.type + ", default " +
                 (info.type == "string" ? "\"" + info.default_value + "\"" : info.default_value) + ")\n";
      section += Wrapped(DescriptionFor(command, info.description), "      ");
    }
    if (!section.empty()) out += "\n" + std::string(group) + ":\n" + section;
  }
  out += "\nAny flag also reads from a file: --flagfile FILE (one --flag=value per line).\n";
  return out;
}

std::vector<HelpEntry> HelpEntries() {
  std::vector<HelpEntry> out;
  for (const Entry& e : Entries()) {
    HelpEntry h{e.flag, e.group, {}};
    for (const char* c : e.commands) h.commands.emplace_back(c);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace embedps::launch
