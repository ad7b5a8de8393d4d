// models/common/learning_curve.cc — see learning_curve.h.
#include "models/common/learning_curve.h"

#include "models/common/run_paths.h"
#include "nn/plot_svg.h"

#include <fmt/format.h>

namespace unroll::common {

LearningCurve::LearningCurve(const std::string& model_path, CurveLabels labels, bool append)
    : stem_(stem_of(model_path)), labels_(std::move(labels)) {
  if (stem_.empty()) return;
  make_parent_dir(stem_);
  csv_.open(stem_ + ".curve.csv", append ? std::ios::app : std::ios::trunc);
  if (!append) csv_ << fmt::format("step,epoch,{},{},lr,seconds\n", labels_.train_column, labels_.dev_column);
}

void LearningCurve::add(const CurveRow& r) {
  rows_.push_back(r);
  if (stem_.empty()) return;
  csv_ << fmt::format("{},{:.4f},{:.5f},{:.5f},{:.6g},{:.1f}\n", r.step, r.epoch, r.train, r.dev, r.lr, r.seconds)
       << std::flush;
  PlotSeries train{"train", {}, {}}, dev{"dev", {}, {}};
  for (const auto& p : rows_) {
    train.x.push_back(p.epoch), train.y.push_back(p.train);
    dev.x.push_back(p.epoch), dev.y.push_back(p.dev);
  }
  PlotOptions po;
  po.title = labels_.title;
  po.x_label = "epoch";
  po.y_label = labels_.y_label;
  write_file_atomic(stem_ + ".curve.svg", plot_svg({train, dev}, po));
}

}  // namespace unroll::common
