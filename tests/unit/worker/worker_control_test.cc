// The worker's control state with scripted scheduler messages: nothing the
// scheduler asks is dropped because of where the worker waits when it
// arrives (an evaluation asked for during a checkpoint's pause used to be).
#include "worker/worker_control.h"

#include <gtest/gtest.h>

namespace embedps::worker {
namespace {

wire::Message Msg(wire::Body body) {
  wire::Message m;
  m.body = std::move(body);
  return m;
}

TEST(WorkerControlTest, AnEvaluationAskedDuringAPauseWaitsForTheResume) {
  WorkerControl c;
  c.OnEvent(Msg(wire::PauseTrainingMsg{7}));
  ASSERT_EQ(c.TakePause(), std::optional<uint64_t>(7));
  // While paused: the evaluation request and the resume arrive.
  wire::EvaluateMsg eval;
  eval.id = 3;
  c.OnEvent(Msg(eval));
  EXPECT_FALSE(c.TakeResume(7));  // not yet
  c.OnEvent(Msg(wire::ResumeTrainingMsg{7}));
  EXPECT_TRUE(c.TakeResume(7));
  EXPECT_FALSE(c.TakeResume(7));  // consumed
  // Training goes on, and the evaluation is still there to run.
  ASSERT_TRUE(c.evaluation_pending());
  EXPECT_EQ(c.TakeEvaluation()->id, 3u);
  EXPECT_FALSE(c.evaluation_pending());
}

TEST(WorkerControlTest, PausesAndResumesMatchByCheckpoint) {
  WorkerControl c;
  c.OnEvent(Msg(wire::PauseTrainingMsg{4}));
  ASSERT_TRUE(c.TakePause().has_value());
  c.OnEvent(Msg(wire::ResumeTrainingMsg{3}));  // an older checkpoint's
  EXPECT_FALSE(c.TakeResume(4));
  // A checkpoint given up before this worker answered its pause: the resume
  // cancels the pause, and nothing is left to answer.
  c.OnEvent(Msg(wire::PauseTrainingMsg{5}));
  c.OnEvent(Msg(wire::ResumeTrainingMsg{5}));
  EXPECT_FALSE(c.TakePause().has_value());
}

TEST(WorkerControlTest, StopShutdownClockAndLeaving) {
  WorkerControl c;
  EXPECT_FALSE(c.stop_requested());
  c.OnEvent(Msg(wire::StopTrainingMsg{"POST /stop"}));
  EXPECT_TRUE(c.stop_requested());
  EXPECT_EQ(c.stop_reason(), "POST /stop");
  c.OnEvent(Msg(wire::ClockUpdateMsg{9}));
  c.OnEvent(Msg(wire::ClockUpdateMsg{5}));  // late and older: the newest minimum stands
  EXPECT_EQ(c.TakeMinClock(), std::optional<uint64_t>(9));
  EXPECT_FALSE(c.TakeMinClock().has_value());
  EXPECT_FALSE(c.shutdown().has_value());
  c.OnEvent(Msg(wire::ShutdownMsg{false, "server 1 failed"}));
  ASSERT_TRUE(c.shutdown().has_value());
  EXPECT_EQ(c.shutdown()->code(), StatusCode::kAborted);
  EXPECT_NE(c.shutdown()->message().find("server 1 failed"), std::string::npos);

  // A restarted scheduler voids what the old one asked, but not SIGTERM.
  c.Leave();
  c.Reset();
  EXPECT_FALSE(c.shutdown().has_value());
  EXPECT_TRUE(c.leaving());
  EXPECT_TRUE(c.stop_requested());
  WorkerControl fresh;
  fresh.OnEvent(Msg(wire::StopTrainingMsg{"x"}));
  fresh.Reset();
  EXPECT_FALSE(fresh.stop_requested());
}

TEST(WorkerControlTest, MessagesAWorkerIsNeverSentAreCountedNotActedOn) {
  WorkerControl c;
  c.OnEvent(Msg(wire::ExportModelMsg{"/tmp/x"}));
  c.OnEvent(Msg(wire::ShutdownMsg{true, "done"}));
  EXPECT_EQ(c.ignored(), 1u);
  ASSERT_TRUE(c.shutdown().has_value());
  EXPECT_TRUE(c.shutdown()->ok());
}

}  // namespace
}  // namespace embedps::worker
