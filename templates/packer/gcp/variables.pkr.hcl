# Inputs of the gcp native build (build: native). The C# side (ImageForge.Providers.Gcp, NativeBuilder) passes them
# in a generated var file, every value a string.

variable "build_id" {
  type        = string
  description = "ImageForge build id; recorded in manifest.json."
}

variable "image_name" {
  type        = string
  description = "Image definition name (ImageForge's); the image's label 'image'."
}

variable "version" {
  type        = string
  description = "The version YYYY.MM.DD.N this build records."
}

variable "version_label" {
  type        = string
  description = "The version as a GCE label value (dots as '-')."
}

variable "build_label" {
  type        = string
  description = "The build id as a GCE label value (label 'build')."
}

variable "gce_image_name" {
  type        = string
  description = "The GCE image name, <image>-<yyyymmdd>-<n> (docs/gcp.md)."
}

variable "project_id" {
  type = string
}

variable "zone" {
  type        = string
  description = "Where the build VM runs (default: the first region's zone b)."
}

variable "machine_type" {
  type    = string
  default = "e2-medium"
}

variable "network" {
  type    = string
  default = "default"
}

variable "source_image" {
  type        = string
  default     = ""
  description = "The base image by name (base_image_kind image), else empty."
}

variable "source_image_family" {
  type        = string
  default     = ""
  description = "The base image by family (base_image_kind family, the default), else empty."
}

variable "source_image_project_id" {
  type        = string
  description = "The project publishing the base image, e.g. debian-cloud."
}

variable "storage_location" {
  type        = string
  description = "The image's storageLocations (one location)."
}

variable "account_file" {
  type        = string
  default     = ""
  description = "The service-account key file's path (from the definition's credentials_variable); empty: ADC."
}

variable "ssh_username" {
  type    = string
  default = "packer"
}

variable "templates_root" {
  type        = string
  description = "templates/packer: the VM stages (common/scripts) and the local target's inventory collector come from here."
}

variable "hardening_root" {
  type        = string
  description = "The hardening directory (rule library lib/ and the profiles)."
}

variable "hardening_profile" {
  type        = string
  description = "The baseline's profile below hardening_root, e.g. cis/debian-11."
}

variable "scap_datastream" {
  type = string
}

variable "scap_profile" {
  type = string
}

variable "scap_tailoring" {
  type        = string
  description = "A tailoring file, or an empty file when the baseline tailors nothing."
}

variable "output_dir" {
  type        = string
  description = "Where the evidence downloaded from the VM and manifest.json are written."
}
