// Feature networks for the generative-model scores (FID / KID, eval/frechet.h): a network maps images to
// feature vectors, and every reported figure names the network, because scores from different networks
// are not comparable. Three kinds:
//   "sa-unet:CKPT"      the encoder of a vesselgan SA-UNet checkpoint (domain features for fundus images)
//   "torchscript:FILE"  any TorchScript module the user supplies (e.g. an Inception-v3 export)
//   "color-stats"       cheap deterministic colour / texture statistics, no weights (tests, quick checks)
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>

namespace vg {

class FeatureNetwork {
 public:
  virtual ~FeatureNetwork() = default;
  // Names the network and its weights, e.g. "sa-unet-encoder(models/sa-unet-drive.pt)", "color-stats",
  // "torchscript(inception.pt)". Written next to every score.
  virtual std::string name() const = 0;
  // images: [N, 3, H, W] float in [0, 1] (any H, W the network accepts, any device) -> [N, D] float32 on the
  // CPU. No gradients; the same image always gives the same vector (eval mode).
  virtual torch::Tensor features(const torch::Tensor& images) = 0;
};

// spec:
//   "sa-unet:CKPT"     a checkpoint of kind "sa-unet" (vesselgan train) or "sa-unet-ensemble" (its first
//                      member), in eval mode. Each image is scaled as the model was trained
//                      (InputOptions::resize, when set) and resized (bilinear) so both sides are multiples
//                      of the net's size_multiple() (at least one multiple); the features are the mean
//                      and standard deviation over pixels of every channel of every encoder level and of the
//                      bottleneck (SAUNetImpl::encode): 2 * base * (2^(depth+1) - 1)
//                      values, 480 for the paper's net (base 16, depth 3).
//   "torchscript:FILE" a TorchScript module (torch.jit.save) whose forward takes ONE tensor [N, 3, 299, 299]
//                      float32 RGB in [0, 1] on `device` (the module does its own normalisation, e.g.
//                      ImageNet mean/std) and returns [N, D] (or [N, D, 1, 1], or a tuple whose first element
//                      is that). Images are resized to 299x299: area averaging when shrinking both sides,
//                      bilinear otherwise. An Inception-v3 pool3 export gives Inception features, but not
//                      the reference FID, whose TensorFlow graph resizes uint8 images its own way: its
//                      figures compare with each other, not with published FIDs.
//   "color-stats"      81 values: at 3 scales (2x2 average pooling applied 0, 1, 2 times) per RGB channel the
//                      mean, standard deviation and 10/50/90 % quantiles of the pixels, and the mean,
//                      standard deviation and 50/90 % quantiles of the gradient magnitude (forward
//                      differences). Images need H, W >= 8. Resolution-dependent: compare images of the same
//                      size.
//   ""                 the default: "sa-unet:" + shipped_model("sa-unet-drive.pt") (core/model_dir.h).
//                      Of an ensemble checkpoint (seg/ensemble_checkpoint.h), the first member's encoder.
// UserError (one line) for an unknown spec, a missing or unusable file, or a missing shipped model.
std::unique_ptr<FeatureNetwork> make_feature_network(const std::string& spec, const torch::Device& device);

// The feature networks make_feature_network builds, for direct use.
std::unique_ptr<FeatureNetwork> make_color_stats_network(const torch::Device& device);
std::unique_ptr<FeatureNetwork> make_sa_unet_encoder_network(const std::string& checkpoint,
                                                             const torch::Device& device);
std::unique_ptr<FeatureNetwork> make_torchscript_network(const std::string& file,
                                                         const torch::Device& device);

}  // namespace vg
