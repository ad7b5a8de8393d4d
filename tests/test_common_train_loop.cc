// tests/test_common_train_loop.cc — models/common/train_loop.h (when the loop evaluates and stops, resuming at a
// position), best_params.h (model selection) and learning_curve.h (the CSV and SVG next to a model file).
#include "models/common/best_params.h"
#include "models/common/learning_curve.h"
#include "models/common/run_paths.h"
#include "models/common/train_loop.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace unroll;
using namespace unroll::common;

namespace {
// What the callbacks saw: "E0" = begin epoch 0, "s0.3" = step on epoch 0 batch 3, "v5@1.0" = evaluate after step 5
// with the next step at epoch 1 batch 0.
struct Trace {
  std::vector<std::string> events;
  std::vector<LoopPosition> evals;
  LoopCallbacks callbacks(std::function<bool(const LoopPosition&)> stop = {}) {
    LoopCallbacks cb;
    cb.begin_epoch = [this](std::size_t e) { events.push_back("E" + std::to_string(e)); };
    cb.step = [this](const LoopPosition& at) {
      events.push_back("s" + std::to_string(at.epoch) + "." + std::to_string(at.batch));
    };
    cb.evaluate = [this, stop](const LoopPosition& at) {
      evals.push_back(at);
      events.push_back("v" + std::to_string(at.step) + "@" + std::to_string(at.epoch) + "." + std::to_string(at.batch));
      return stop ? stop(at) : false;
    };
    return cb;
  }
};
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : " ") + e;
  return s;
}
}  // namespace

TEST_CASE("train_loop: evaluates every eval_every steps and at each epoch end, once where both fall") {
  Trace t;
  const LoopResult r = run_train_loop({2, 3, 2, 0}, t.callbacks());
  CHECK(join(t.events) == "E0 s0.0 s0.1 v2@0.2 s0.2 v3@1.0 E1 s1.0 v4@1.1 s1.1 s1.2 v6@2.0");
  CHECK(r.steps == 6);
  CHECK(r.epochs == doctest::Approx(2.0));
  CHECK_FALSE(r.out_of_time);
  CHECK_FALSE(r.stopped);
  CHECK(t.evals[0].epochs_done == doctest::Approx(2.0 / 3));
  CHECK(t.evals[1].epochs_done == doctest::Approx(1.0));
}

TEST_CASE("train_loop: a one-batch epoch, one epoch") {
  Trace t;
  const LoopResult r = run_train_loop({1, 1, 0, 0}, t.callbacks());
  CHECK(join(t.events) == "E0 s0.0 v1@1.0");
  CHECK(r.steps == 1);
}

TEST_CASE("train_loop: the evaluate callback stops the run") {
  Trace t;
  const LoopResult r = run_train_loop({5, 2, 0, 0}, t.callbacks([](const LoopPosition& at) { return at.epoch == 2; }));
  CHECK(join(t.events) == "E0 s0.0 s0.1 v2@1.0 E1 s1.0 s1.1 v4@2.0");
  CHECK(r.stopped);
  CHECK(r.steps == 4);
  CHECK(r.epochs == doctest::Approx(2.0));
}

TEST_CASE("train_loop: the time limit stops after the step that passes it, evaluated there") {
  Trace t;
  LoopCallbacks cb = t.callbacks();
  const auto step = cb.step;
  cb.step = [step](const LoopPosition& at) {
    step(at);
    if (at.epoch == 1 && at.batch == 1) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  };
  const LoopResult r = run_train_loop({3, 4, 0, 0.25}, cb);
  CHECK(join(t.events) == "E0 s0.0 s0.1 s0.2 s0.3 v4@1.0 E1 s1.0 s1.1 v6@1.2");
  CHECK(r.out_of_time);
  CHECK(r.steps == 6);
  CHECK(r.epochs == doctest::Approx(1.5));
  CHECK(t.evals.back().seconds >= 0.25);
}

TEST_CASE("train_loop: a resumed run starts at the saved position and keeps counting steps") {
  Trace t;
  LoopPlan plan{3, 3, 4, 0};
  plan.step = 5;
  plan.epoch = 1;
  plan.batch = 2;
  const LoopResult r = run_train_loop(plan, t.callbacks());
  CHECK(join(t.events) == "E1 s1.2 v6@2.0 E2 s2.0 s2.1 v8@2.2 s2.2 v9@3.0");
  CHECK(r.steps == 9);
  plan.batch = 3;
  CHECK_THROWS_WITH(run_train_loop(plan, t.callbacks()), doctest::Contains("batch 3 is past the 3 batches"));
}

TEST_CASE("best_params: keeps the best evaluation's copy, lower or higher better") {
  Var<float> w = parameter(zeros<float>(1, 2));
  const std::vector<NamedParam<float>> params{{"w", w}};
  BestParams low(params, Better::lower);
  CHECK(low.best() == std::numeric_limits<double>::infinity());
  w.value()(0, 0) = 1.f;
  CHECK(low.offer(3.0));
  w.value()(0, 0) = 2.f;
  CHECK_FALSE(low.offer(3.5));
  CHECK_FALSE(low.offer(3.0));  // a tie is no improvement
  w.value()(0, 0) = 3.f;
  CHECK(low.offer(2.0));
  w.value()(0, 0) = 4.f;
  CHECK_FALSE(low.offer(2.5));
  low.restore();
  CHECK(w.value()(0, 0) == 3.f);
  BestParams high(params, Better::higher);
  CHECK(high.offer(0.5));
  w.value()(0, 0) = 5.f;
  CHECK_FALSE(high.offer(0.4));
  high.restore();
  CHECK(w.value()(0, 0) == 3.f);
  CHECK(high.best() == 0.5);
}

TEST_CASE("learning_curve: the CSV and the plot next to the model file, appended on resume") {
  const auto dir = std::filesystem::temp_directory_path() / ("unroll_test_curve_" + std::to_string(::getpid()));
  const std::string model = (dir / "sub" / "m.safetensors").string();
  CHECK(stem_of(model) == (dir / "sub" / "m").string());
  CHECK(train_state_path(model) == (dir / "sub" / "m.train.safetensors").string());
  CHECK(train_state_path("").empty());
  const CurveLabels labels{"train_bpc", "dev_bpc", "a title", "bits"};
  {
    LearningCurve c(model, labels, false);
    c.add({10, 0.5, 2.25, 2.5, 0.002, 1.5});
    c.add({20, 1.0, 2.0, 2.25, 0.001, 2.5});
    CHECK(c.rows().size() == 2);
  }
  {
    LearningCurve c(model, labels, true);
    c.add({30, 1.5, 1.75, 2.125, 0.001, 4.0});
  }
  std::ifstream in(dir / "sub" / "m.curve.csv");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text ==
        "step,epoch,train_bpc,dev_bpc,lr,seconds\n"
        "10,0.5000,2.25000,2.50000,0.002,1.5\n"
        "20,1.0000,2.00000,2.25000,0.001,2.5\n"
        "30,1.5000,1.75000,2.12500,0.001,4.0\n");
  std::ifstream svg(dir / "sub" / "m.curve.svg");
  const std::string plot((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  CHECK(plot.find("<svg") != std::string::npos);
  CHECK(plot.find("a title") != std::string::npos);
  // no model file: rows only
  LearningCurve none("", labels, false);
  none.add({1, 1, 1, 1, 1, 1});
  CHECK(none.rows().size() == 1);
  std::filesystem::remove_all(dir);
}
