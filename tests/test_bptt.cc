// tests/test_bptt.cc — engine/bptt_reference.{h,cc}: the seeds' vanilla RNN, its BPTT derived by hand, the
// same model on the tape, and central differences: hand-derived == tape (1e-10) == numerical on 20 steps.
#include "tests/op_test_helpers.h"

#include "engine/bptt_reference.h"

#include <cmath>

using namespace unroll;
using namespace unroll::test;

TEST_SUITE("bptt") {

TEST_CASE("bptt: hand-derived == tape == numerical on a 20-step sequence") {
  BpttThreeWay r = bptt_three_way_check(20, 2024);
  INFO(r.report);
  CAPTURE(r.hand_vs_tape);
  CAPTURE(r.tape_vs_numeric);
  CHECK(r.steps == 20);
  CHECK(std::abs(r.loss_hand - r.loss_tape) <= 1e-10);
  CHECK(r.loss_hand > 1.0);  // 20 steps of 4-way classification: a real loss, not a degenerate one
  CHECK(r.hand_vs_tape <= 1e-10);
  CHECK(r.tape_vs_numeric <= 1e-6);
  CHECK(r.gradcheck_ok);
}

TEST_CASE("bptt: the three agree for other lengths and seeds (1, 2, 7 steps and the CLI case)") {
  for (int steps : {1, 2, 7}) {
    BpttThreeWay r = bptt_three_way_check(steps, 7 + std::uint64_t(steps));
    CAPTURE(steps);
    CHECK(r.hand_vs_tape <= 1e-10);
    CHECK(r.tape_vs_numeric <= 1e-6);
    CHECK_MESSAGE(r.gradcheck_ok, r.report);
  }
  BpttThreeWay cli = bptt_three_way_check(20, 7);  // the case `unroll gradcheck` prints
  CHECK(cli.hand_vs_tape <= 1e-10);
  CHECK(cli.tape_vs_numeric <= 1e-6);
  CHECK(cli.gradcheck_ok);
  CHECK_THROWS_WITH_AS(bptt_three_way_check(0, 1), doctest::Contains("bptt_three_way_check: steps must be >= 1, got 0"),
                       ShapeError);
}

TEST_CASE("bptt: one step with scalar sizes, forward and gradients by hand") {
  // I = H = 1, K = 2: s1 = tanh(u x + w s0 + b), o = (v1 s1 + c1, v2 s1 + c2), L = -log softmax(o)[1]
  const double u = 0.5, w = -0.8, b = 0.1, v1 = 1.5, v2 = -0.5, c1 = 0.2, c2 = -0.1, x = 2.0, s0 = 0.3;
  VanillaRnn p{mat<double>({{u}}), mat<double>({{w}}), mat<double>({{v1}, {v2}}), mat<double>({{b}}),
               mat<double>({{c1}, {c2}})};
  RnnSequence seq{mat<double>({{x}}), {1}, mat<double>({{s0}})};
  const double s1 = std::tanh(u * x + w * s0 + b);
  const double o1 = v1 * s1 + c1, o2 = v2 * s1 + c2;
  const double p2 = std::exp(o2) / (std::exp(o1) + std::exp(o2)), p1 = 1 - p2;
  CHECK(vanilla_rnn_loss(p, seq) == doctest::Approx(-std::log(p2)).epsilon(1e-14));

  VanillaRnnGrads g;
  CHECK(vanilla_rnn_bptt(p, seq, g) == doctest::Approx(-std::log(p2)).epsilon(1e-14));
  const double e1 = p1, e2 = p2 - 1;                    // e = ŷ − onehot(1)
  const double delta = (1 - s1 * s1) * (v1 * e1 + v2 * e2);  // δ_1 = (1 − s1²) Vᵀ e  (δ_2 = 0)
  CHECK_MAT_NEAR(g.dV, mat<double>({{e1 * s1}, {e2 * s1}}), 1e-15);
  CHECK_MAT_NEAR(g.dc, mat<double>({{e1}, {e2}}), 1e-15);
  CHECK_MAT_NEAR(g.dW, mat<double>({{delta * s0}}), 1e-15);  // δ_1 s_0ᵀ
  CHECK_MAT_NEAR(g.dU, mat<double>({{delta * x}}), 1e-15);   // δ_1 x_1ᵀ
  CHECK_MAT_NEAR(g.db, mat<double>({{delta}}), 1e-15);
  CHECK_MAT_NEAR(g.ds0, mat<double>({{w * delta}}), 1e-15);  // Wᵀ δ_1
}

TEST_CASE("bptt: two steps, the recurrence carries δ_2 back into δ_1 through Wᵀ") {
  const double u = 0.7, w = 0.9, b = 0.0, v1 = 1.0, v2 = -1.0, x1 = 1.0, x2 = -0.5, s0 = 0.0;
  VanillaRnn p{mat<double>({{u}}), mat<double>({{w}}), mat<double>({{v1}, {v2}}), mat<double>({{b}}),
               mat<double>({{0.0}, {0.0}})};
  RnnSequence seq{mat<double>({{x1}, {x2}}), {0, 1}, mat<double>({{s0}})};
  const double s1 = std::tanh(u * x1 + w * s0 + b), s2 = std::tanh(u * x2 + w * s1 + b);
  auto sm = [](double o1, double o2) { return std::exp(o1) / (std::exp(o1) + std::exp(o2)); };
  const double q1 = sm(v1 * s1, v2 * s1), q2 = sm(v1 * s2, v2 * s2);  // probability of class 0 at t = 1, 2
  const double e1[2] = {q1 - 1, 1 - q1}, e2[2] = {q2, (1 - q2) - 1};  // targets 0 then 1
  const double d2 = (1 - s2 * s2) * (v1 * e2[0] + v2 * e2[1]);
  const double d1 = (1 - s1 * s1) * (w * d2 + v1 * e1[0] + v2 * e1[1]);
  VanillaRnnGrads g;
  vanilla_rnn_bptt(p, seq, g);
  CHECK_MAT_NEAR(g.dW, mat<double>({{d1 * s0 + d2 * s1}}), 1e-15);
  CHECK_MAT_NEAR(g.dU, mat<double>({{d1 * x1 + d2 * x2}}), 1e-15);
  CHECK_MAT_NEAR(g.db, mat<double>({{d1 + d2}}), 1e-15);
}

TEST_CASE("bptt: the tape model is gradient-checked by the library too, and bad shapes are refused") {
  Rng rng(3);
  VanillaRnn p = vanilla_rnn_random(2, 3, 3, rng);
  RnnSequence seq = rnn_sequence_random(p, 4, rng);
  VanillaRnnVars v{parameter(p.U), parameter(p.W), parameter(p.V), parameter(p.b), parameter(p.c), parameter(seq.s0)};
  CHECK(vanilla_rnn_tape_loss(v, seq.X, seq.y).item() == doctest::Approx(vanilla_rnn_loss(p, seq)).epsilon(1e-13));
  RnnSequence bad = seq;
  bad.X = zeros<double>(4, 5);
  CHECK_THROWS_WITH_AS(vanilla_rnn_loss(p, bad), doctest::Contains("vanilla_rnn: X is [4, 5] with 4 targets, U is [3, 2]"),
                       ShapeError);
  bad = seq;
  bad.y[2] = 3;
  CHECK_THROWS_WITH_AS(vanilla_rnn_loss(p, bad), doctest::Contains("vanilla_rnn: target 3 at step 2 is out of [0, 3)"),
                       ShapeError);
  bad = seq;
  bad.s0 = zeros<double>(1, 3);
  CHECK_THROWS_WITH_AS(vanilla_rnn_loss(p, bad), doctest::Contains("vanilla_rnn: s0 is [1, 3], expected [3, 1]"),
                       ShapeError);
}

}  // TEST_SUITE
