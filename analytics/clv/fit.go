package clv

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// FitInfo tells how a maximum-likelihood fit went.
type FitInfo struct {
	// Converged is true when the optimiser stopped at a point where the
	// gradient of the mean log-likelihood vanishes (to GradientNorm).
	// It is the flag to trust: a fit converges too when BFGS ends in a
	// failed line search at the optimum, where in floating point no step
	// lowers the function any more.
	Converged bool
	// Status is the optimiser's reason for stopping, with its error if
	// any.
	Status string
	// Iterations and Evaluations count BFGS iterations and likelihood
	// evaluations.
	Iterations, Evaluations int
	// GradientNorm is the largest absolute component of the gradient of
	// the mean negative log-likelihood, in log-parameters, where the fit
	// stopped.
	GradientNorm float64
}

// objective is a mean negative log-likelihood in log-parameters, with its
// gradient written into grad.
type objective func(logParams, grad []float64) float64

const (
	// gradTol stops BFGS: on the mean (not summed) negative log-likelihood
	// in log-parameters a gradient this small moves the parameters well
	// below the published precision, and is still far above rounding.
	gradTol = 1e-9
	// convergedTol is the gradient below which a fit that stopped for
	// another reason (a line search that can no longer make progress at
	// the bottom of the valley) still counts as converged.
	convergedTol = 1e-6
)

// minimize runs BFGS on f from x0. It minimises a mean rather than a summed
// negative log-likelihood because the sum's gradient carries rounding error
// in proportion to the number of customers: on large data it cannot fall
// below a fixed threshold and BFGS ends in a failed line search at the
// optimum. The mean keeps every scale O(1) whatever the data's size.
func minimize(f objective, x0 []float64) ([]float64, FitInfo, error) {
	n := len(x0)
	// BFGS asks for the value and the gradient at the same point in two
	// calls; the gradient comes almost free with the value, so compute
	// both once and remember them.
	last := make([]float64, n)
	lastGrad := make([]float64, n)
	lastF := math.NaN()
	eval := func(x []float64) {
		if !math.IsNaN(lastF) && floats.Equal(x, last) {
			return
		}
		copy(last, x)
		lastF = f(x, lastGrad)
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 { eval(x); return lastF },
		Grad: func(grad, x []float64) { eval(x); copy(grad, lastGrad) },
	}
	settings := &optimize.Settings{
		GradientThreshold: gradTol,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-15, Relative: 1e-15, Iterations: 20},
		MajorIterations:   1000,
	}
	res, err := optimize.Minimize(p, x0, settings, &optimize.BFGS{})
	if res == nil {
		return nil, FitInfo{}, fmt.Errorf("minimize: %w", err)
	}
	g := make([]float64, n)
	fx := f(res.X, g)
	status := res.Status.String()
	if err != nil {
		status += ": " + err.Error()
	}
	info := FitInfo{
		Status:       status,
		Iterations:   res.MajorIterations,
		Evaluations:  res.FuncEvaluations,
		GradientNorm: floats.Norm(g, math.Inf(1)),
	}
	if math.IsNaN(fx) || math.IsInf(fx, 0) {
		return nil, info, fmt.Errorf("minimize: the likelihood is not finite where the optimiser stopped (%s)", info.Status)
	}
	info.Converged = info.GradientNorm < convergedTol
	if !info.Converged {
		if err != nil {
			return nil, info, fmt.Errorf("minimize: no convergence (gradient %.3g): %w", info.GradientNorm, err)
		}
		return nil, info, fmt.Errorf("minimize: no convergence (gradient %.3g, %s)", info.GradientNorm, info.Status)
	}
	return res.X, info, nil
}

// ErrNotIdentified is the error of a fit whose information matrix is not
// positive definite: the optimiser stopped where the likelihood is flat in
// some direction, typically with a parameter drifting to 0 or infinity
// (BG/NBD's a when hardly anyone drops out). The model returned with it
// is the best one on the boundary, without standard errors: usable for
// predictions, with that caveat.
var ErrNotIdentified = errors.New("the likelihood has no maximum inside the parameter space (the Hessian is not positive definite): too few customers, or too little variation among them")

// standardErrors returns the standard errors of the parameters exp(logParams)
// from the observed information: the Hessian of the summed negative
// log-likelihood (the mean times customers), taken by central differences of
// the analytic gradient in log-parameters, inverted. At the optimum the
// covariance of a parameter is its value squared times that of its log
// (the delta method, exact here because the gradient term vanishes).
func standardErrors(f objective, logParams []float64, customers float64) ([]float64, error) {
	n := len(logParams)
	h := mat.NewDense(n, n, nil)
	grad := func(y, x []float64) { f(x, y) }
	fd.Jacobian(h, grad, logParams, &fd.JacobianSettings{Formula: fd.Central, Step: 1e-5})
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			sym.SetSym(i, j, customers*(h.At(i, j)+h.At(j, i))/2)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(sym) {
		return nil, ErrNotIdentified
	}
	var cov mat.SymDense
	if err := chol.InverseTo(&cov); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotIdentified, err)
	}
	se := make([]float64, n)
	for i := range se {
		v := cov.At(i, i)
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, ErrNotIdentified
		}
		se[i] = math.Exp(logParams[i]) * math.Sqrt(v)
	}
	return se, nil
}
