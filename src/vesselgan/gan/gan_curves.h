// The curves of a GAN run folder, drawn from its stats.jsonl rows: the losses and D's logits, and ADA's
// augmentation probability p with the overfitting measure r_t it steers by (and its target).
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

namespace vg {

// Writes one SVG with two panels side by side: "Losses and logits" and "ADA" (p, r_t, the target).
void write_gan_curves(const std::filesystem::path& path, const std::vector<nlohmann::json>& rows, double ada_target);

}  // namespace vg
