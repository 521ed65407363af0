/// The canister's certified data (the IC system API). The Motoko interpreter does not implement it: the tests
/// swap this file for contracts/icp/test/certified_data.mo, which prints what would be certified.
import CertifiedData "mo:core/CertifiedData";

module {
  public func set(root : Blob) = CertifiedData.set(root);
  public func getCertificate() : ?Blob = CertifiedData.getCertificate();
};
