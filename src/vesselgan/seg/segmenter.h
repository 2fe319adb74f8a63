// A trained SA-UNet ready to segment photographs of any size: loads a checkpoint, brings each photograph to
// the scale the model was trained at (its FOV as wide as the training FOVs, model_input.h), fits it to the
// network as it was trained, tiles canvases too large for one pass (so memory stays bounded: one tile's
// activations plus the canvas-sized image, accumulator and weights), optionally averages flipped copies
// (test-time augmentation), and maps the probability back to the photograph's pixels. An ensemble checkpoint
// (seg/ensemble_checkpoint.h) loads as one Segmenter whose probability is the weighted mean of its members'.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "vesselgan/data/fov.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/batch_norm_statistics.h"
#include "vesselgan/seg/compression_gate.h"
#include "vesselgan/seg/model_input.h"
#include "vesselgan/seg/sa_unet.h"

namespace vg {

struct PredictOptions {
  bool tta = false;            // average over identity, h-flip, v-flip and both flips
  int64_t tile = 1024;         // canvases with a side above this are segmented in tiles of this side
  int64_t tile_overlap = 64;   // pixels shared by neighbouring tiles (blended with a linear ramp)
  bool bf16 = true;            // CUDA only
  // Scale normalization: resize each photograph so its FOV diameter becomes this many pixels (the model's
  // training scale, Segmenter::training_fov_diameter()), predict, and resize the probability back. It
  // replaces the checkpoint's InputOptions::resize. 0 = off (the photograph's own pixels). An image whose
  // FOV the frame cuts on all four sides (model_input.h fov_cut_by_frame: a patch) keeps its own pixels, and
  // when its mask is given, no InputOptions::pad_to canvas either.
  double fov_diameter = 0;
  FovOptions fov;  // for photographs given without an FOV mask when fov_diameter > 0
  // Prediction-time batch normalization (Nado et al. 2020; Schneider et al. 2020): every BatchNorm layer
  // normalises with the photograph's own activation statistics (per canvas or tile) instead of the running
  // statistics of the training set, which stay untouched. A darker, paler or differently exposed photograph
  // is then normalised like the training photographs were.
  // With it off, a checkpoint that records statistics ranges (Segmenter::statistics_ranges) uses image
  // statistics only as far as a photograph's lie outside them (seg/batch_norm_statistics.h); on overrides.
  bool image_statistics = false;
  // Each photograph's threshold from its own map (eval/operating_point.h: "fixed" | "expected-count"), the map
  // remapped so that it falls on 0.5. Inside the FOV mask when one is given, else the estimated FOV.
  std::string operating_point = "fixed";
  double count_ratio = 1;  // "expected-count": the network's count above 0.5 over its summed probability, > 0
};

// What Segmenter::probability did to a photograph's scale.
struct ScaleInfo {
  double fov_diameter = 0;    // of the photograph's FOV (0 when normalization was off)
  bool fov_estimated = false;  // the FOV was estimated for the purpose (no mask given)
  double scale = 1;           // the resize factor applied (1 = native pixels)
  int64_t height = 0, width = 0;  // the size the network was fed (before padding)
  // The FOV is cut by the frame on all four sides (model_input.h fov_cut_by_frame): a patch, not a
  // photograph. It keeps its native pixels, and statistics ranges (fitted on photographs) do not apply.
  bool patch = false;
  // Per network, the weight its BatchNorm layers gave the photograph's own statistics (0 = the running ones,
  // 1 = its own; averaged over tiles and flips). Empty when the running statistics were used as they are:
  // no statistics ranges recorded, or a patch.
  std::vector<double> image_statistics_weights;
  // The photograph's JPEG blockiness (data/jpeg_blockiness.h), measured when the model has a compression gate
  // (Segmenter::compression_gate; 0 otherwise), and whether it was read with the gate's weights.
  double blockiness = 0;
  bool compressed = false;
};

class Segmenter {
 public:
  // Loads a "sa-unet" or "sa-unet-ensemble" checkpoint (UserError when missing or of another kind) onto
  // `device`.
  static Segmenter load(const std::filesystem::path& checkpoint, const torch::Device& device);
  Segmenter(SAUNet model, InputOptions input, const torch::Device& device);
  // Members of one architecture (the first sets it), averaged with `weights` (one per member, normalized).
  Segmenter(std::vector<SAUNet> members, std::vector<double> weights, InputOptions input,
            const torch::Device& device);

  // image: [3, H, W] float in [0, 1] (any device) -> vessel probability [1, H, W] float on the CPU.
  torch::Tensor probability(const torch::Tensor& image, const PredictOptions& opt = {}) const;
  // The same with the photograph's FOV mask fov: [1, H, W] {0, 1} (undefined: estimated when needed), which
  // sets the scale when opt.fov_diameter > 0. The probability is not masked. `info` receives the scale used.
  torch::Tensor probability(const torch::Tensor& image, const torch::Tensor& fov, const PredictOptions& opt,
                            ScaleInfo* info = nullptr) const;

  // The training scale recorded in the checkpoint's config ("fov_diameter", see model_input.h
  // training_fov_diameter); 0 when the checkpoint records none (or the model was not loaded from one).
  double training_fov_diameter() const;
  // A command's --fov-diameter: negative = the training scale (0 when unrecorded), else the value itself.
  double resolve_fov_diameter(double requested) const { return requested < 0 ? training_fov_diameter() : requested; }
  // The "expected-count" operating point's ratio for this model (eval/operating_point.h): its pixels above 0.5 over
  // its summed probability on its training photographs, read from the checkpoint's config "predict":
  // {"count_ratio": r} (`vesselgan calibrate --count-ratio`), else 1. A command's --count-ratio: 0 = this one.
  double count_ratio() const { return count_ratio_; }
  double resolve_count_ratio(double requested) const { return requested > 0 ? requested : count_ratio_; }
  // The operating-point rule this model is meant to be read with (PredictOptions::operating_point), from the
  // checkpoint's config "predict": {"operating_point": rule} (`vesselgan calibrate --operating-point`), else
  // "fixed". A recorded "expected-count" always comes with its recorded count ratio. A command's
  // --operating-point: empty = this one.
  const std::string& operating_point() const { return operating_point_; }
  std::string resolve_operating_point(const std::string& requested) const {
    return requested.empty() ? operating_point_ : requested;
  }

  const CheckpointHeader& header() const { return header_; }
  const torch::Device& device() const { return device_; }
  // The network; of an ensemble, its first member (whose encoder the Frechet features use).
  SAUNet& model() { return members_.front(); }
  size_t member_count() const { return members_.size(); }
  SAUNet& member(size_t i) { return members_.at(i); }  // 0-based
  // Temperature applied to the averaged probability (eval/temperature.h); read from the checkpoint's
  // config "calibration": {"temperature": T}, else 1 (none). `vesselgan calibrate` fits and records it.
  double temperature() const { return temperature_; }
  // Whether every prediction uses image statistics (PredictOptions::image_statistics), whatever the options
  // say: the checkpoint's config "predict": {"image_statistics": true} (`vesselgan export --image-statistics`).
  bool image_statistics() const { return image_statistics_; }
  void set_temperature(double t);
  // Adaptive image statistics (seg/batch_norm_statistics.h), one range per network; empty = off (the running
  // statistics). They apply to photographs, not to patches (ScaleInfo::patch), whose statistics differ from
  // any photograph's. Read from the checkpoint's config "predict": {"statistics_ranges": [{low, high}, ...]}
  // (`vesselgan calibrate --statistics-range`). set: UserError unless empty or one valid range per network.
  const std::vector<StatisticsRange>& statistics_ranges() const { return statistics_ranges_; }
  void set_statistics_ranges(std::vector<StatisticsRange> ranges);
  // Per network, the distance of the photograph's BatchNorm statistics from its running ones, on the canvas
  // that probability() would feed it (the mean over tiles when it is tiled).
  std::vector<double> statistics_distances(const torch::Tensor& image, const torch::Tensor& fov,
                                           const PredictOptions& opt) const;
  const std::vector<double>& weights() const { return weights_; }
  // The weights for heavily compressed photographs (seg/compression_gate.h), from an ensemble checkpoint's
  // config "ensemble": {"compressed": {...}}; inactive (no weights) otherwise. set: UserError unless inactive
  // or valid for this many networks. The weights are kept normalized.
  const CompressionGate& compression_gate() const { return gate_; }
  void set_compression_gate(CompressionGate gate);
  // Members that see the photograph through different enhancements (InputOptions::enhance): one input recipe
  // per network, all with the geometry (resize, pad_to) of the Segmenter's own. Empty = every network uses the
  // Segmenter's. Each distinct enhancement is computed once per photograph. Read from an ensemble checkpoint's
  // "ensemble": {"inputs": [...]} (seg/ensemble_checkpoint.h). UserError when the count or the geometry differs.
  void set_member_inputs(std::vector<InputOptions> inputs);
  // The input recipe network i sees (0-based).
  const InputOptions& member_input(size_t i) const;

 private:
  // The photograph as the networks' input: scaled (opt.fov_diameter), enhanced once per distinct enhancement of
  // the members and fitted to the canvas, the views stacked along the channels: [1, 3 x views, H', W'].
  torch::Tensor canvas_for(const torch::Tensor& image, const torch::Tensor& fov, const PredictOptions& opt,
                           FitInfo& fi, ScaleInfo& si) const;
  // Per network, the sum of the image-statistics weights over forward passes (ScaleInfo::image_statistics_weights).
  struct WeightTally {
    std::vector<double> sum;
    int64_t passes = 0;
  };
  // [1,3,H,W] -> [1,1,H,W]. use_ranges: the statistics ranges apply (a photograph, not a patch).
  // weights: the members' weights for this photograph (weights_, or the compression gate's); a member of
  // weight 0 is not run.
  torch::Tensor forward_canvas(const torch::Tensor& canvas, const PredictOptions& opt, bool use_ranges,
                               const std::vector<double>& weights, WeightTally& tally) const;
  torch::Tensor forward_tiled(const torch::Tensor& canvas, const PredictOptions& opt, bool use_ranges,
                              const std::vector<double>& weights, WeightTally& tally) const;
  int64_t tile_side(const PredictOptions& opt) const;  // canvases with a larger side are tiled
  // Network i's logits on x, with adaptive image statistics when `adaptive`; *weight: the weight it gave the
  // input's own statistics.
  torch::Tensor member_forward(size_t i, const torch::Tensor& x, bool adaptive, double* weight) const;
  // Network i's three channels of a canvas of stacked views.
  torch::Tensor member_view(size_t i, const torch::Tensor& x) const;

  mutable std::vector<SAUNet> members_;
  std::vector<double> weights_;
  CompressionGate gate_;
  double temperature_ = 1;
  double count_ratio_ = 1;
  std::string operating_point_ = "fixed";
  bool image_statistics_ = false;
  std::vector<StatisticsRange> statistics_ranges_;
  InputOptions input_;
  std::vector<InputOptions> views_;     // the distinct enhancements the members see (one: input_'s)
  std::vector<size_t> view_of_;         // per network, its view in views_
  torch::Device device_;
  CheckpointHeader header_;
};

// Removes the count ratio a checkpoint's config records (Segmenter::count_ratio, and the data it was measured on),
// for a file whose maps are not the ones it was measured on, and with it the recorded operating point
// (Segmenter::operating_point), which needs the ratio; true when there was a ratio.
bool drop_recorded_count_ratio(nlohmann::json& config);

// Removes the calibration a checkpoint's config records (Segmenter::temperature, and the photographs it was fitted
// on), for a file whose maps are not the ones it was fitted on: an ensemble's average is softer than its first
// member's map, one member alone sharper than the average. True when there was one.
bool drop_recorded_calibration(nlohmann::json& config);

}  // namespace vg
