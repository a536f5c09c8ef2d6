# Inputs of the azure native build (build: native). The C# side (ImageForge.Providers.Azure, NativeBuilder) passes
# them in a generated var file, every value a string; the client secret only through PKR_VAR_client_secret.

variable "build_id" {
  type        = string
  description = "ImageForge build id; recorded in manifest.json."
}

variable "image_name" {
  type        = string
  description = "Image definition name (ImageForge's); recorded in manifest.json and the tags."
}

variable "version" {
  type        = string
  description = "The version YYYY.MM.DD.N this build records."
}

variable "subscription_id" {
  type = string
}

variable "tenant_id" {
  type        = string
  default     = ""
  description = "With client_id and client_secret: the service principal's tenant. Empty: Packer's own default login."
}

variable "client_id" {
  type    = string
  default = ""
}

variable "client_secret" {
  type        = string
  default     = ""
  description = "Only from the environment (PKR_VAR_client_secret), never in a var file."
}

variable "resource_group" {
  type        = string
  description = "The gallery's resource group; the managed image Packer makes on the way goes there too."
}

variable "gallery" {
  type = string
}

variable "image_definition" {
  type        = string
  description = "The gallery image definition the version is published to (it must exist: Packer does not create it)."
}

variable "gallery_version" {
  type        = string
  description = "Major.Minor.Patch, from the version (YYYY.(MM*100+DD).N, docs/azure.md)."
}

variable "managed_image_name" {
  type        = string
  description = "The managed image shared_image_gallery_destination needs as its source."
}

variable "location" {
  type        = string
  description = "Where the build VM runs: the target's first region."
}

variable "replication_regions" {
  type        = string
  description = "Comma-separated target regions of the gallery version."
}

variable "replica_count" {
  type    = string
  default = "1"
}

variable "storage_account_type" {
  type    = string
  default = "Standard_LRS"
}

variable "vm_size" {
  type    = string
  default = "Standard_B2s"
}

variable "base_publisher" {
  type        = string
  description = "The marketplace base image Publisher:Offer:Sku:Version, split."
}

variable "base_offer" {
  type = string
}

variable "base_sku" {
  type = string
}

variable "base_version" {
  type    = string
  default = "latest"
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
